// Package fakests is a test double of STS AssumeRole for unit tests of
// code that assumes roles (awsclient.Assumer and its callers): it answers
// with fixed temporary credentials, or a set error, and records every
// call. Through the real SDK and wire protocol, use standin.Accounts.
package fakests

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// STS answers AssumeRole. The zero value issues credentials with access
// key id "ASIAMEMBER".
type STS struct {
	// KeyID is the access key id issued (default "ASIAMEMBER"); the
	// secret and token are "<KeyID>-SECRET-never-logged" and
	// "<KeyID>-TOKEN-never-logged", for tests that look for them in logs.
	KeyID string
	// Err, when set, is every call's answer.
	Err error

	mu    sync.Mutex
	calls []Call
}

// Call is one AssumeRole, with the region its options chose.
type Call struct {
	Input  *sts.AssumeRoleInput
	Region string
}

// AssumeRole records the call and answers it.
func (f *STS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	o := sts.Options{}
	for _, fn := range optFns {
		fn(&o)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Input: in, Region: o.Region})
	if f.Err != nil {
		return nil, f.Err
	}
	key := f.KeyID
	if key == "" {
		key = "ASIAMEMBER"
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String(key), SecretAccessKey: aws.String(key + "-SECRET-never-logged"), SessionToken: aws.String(key + "-TOKEN-never-logged"),
		Expiration: aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

// Calls returns the calls so far, oldest first.
func (f *STS) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}
