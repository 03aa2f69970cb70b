package standin

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// StartT starts a stand-in seeded with sc for one test and closes it when
// the test ends; a scenario or listener problem fails the test.
func StartT(tb testing.TB, sc Scenario, opts ...Option) *Server {
	tb.Helper()
	s, err := New(sc, opts...)
	if err != nil {
		tb.Fatalf("standin.New: %v", err)
	}
	if err := s.Start(); err != nil {
		tb.Fatalf("standin Start: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Config returns an aws.Config for in-process clients pointed at the
// stand-in: its region, static credentials and one attempt per call, so
// tests of error paths do not wait on the retryer's backoff. (Child
// processes get the same through Env and the standard variables.)
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("standin", "standin", ""),
		BaseEndpoint:     aws.String(s.URL()),
		RetryMaxAttempts: 1,
	}
}
