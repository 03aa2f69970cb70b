package dynalite

// PID exposes the process id to tests.
func PID(s *Server) int { return s.cmd.Process.Pid }
