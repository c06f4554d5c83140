package web

// staffAuthRoutes: staff sign-in, second factor, account and sign-out pages.
func (s *Server) staffAuthRoutes() {}
