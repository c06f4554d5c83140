package web

// adminRoutes: account management and the audit log viewer.
func (s *Server) adminRoutes() {}
