package web

// caseRoutes: the renewal queue, the case page, checks, decisions and in-person evidence.
func (s *Server) caseRoutes() {}
