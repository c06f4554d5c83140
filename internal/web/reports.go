package web

// reportRoutes: coverage reports, charts, exports, public leaflet events and the analysts' API.
func (s *Server) reportRoutes() {}
