package standin

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// testNow is the fixed clock tests run on.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// startServer starts a stand-in seeded with sc on the fixed clock.
func startServer(t testing.TB, sc Scenario) *Server {
	t.Helper()
	return StartT(t, sc, WithClock(func() time.Time { return testNow }))
}

// awsConfig builds a real SDK config pointed at the stand-in through the
// standard AWS_ENDPOINT_URL variable, with static credentials and one
// attempt per call so error tests do not wait on backoff.
func awsConfig(t testing.TB, s *Server) aws.Config {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", s.URL())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("standin", "standin", "")),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != s.URL() {
		t.Fatalf("LoadDefaultConfig did not pick up AWS_ENDPOINT_URL: BaseEndpoint = %v; want %s", cfg.BaseEndpoint, s.URL())
	}
	return cfg
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ctxTimeout(t testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), d)
}
