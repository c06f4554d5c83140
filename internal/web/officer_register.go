package web

// registerRoutes: the register of licensed drivers (import with preview) and due for renewal.
func (s *Server) registerRoutes() {}
