package lab

import (
	"context"
	"testing"

	"github.com/patronus-sdwan/patronus/internal/auth"
)

func authAdmin(t *testing.T, l *Lab) auth.Principal {
	t.Helper()
	p, err := l.Controller.Service.Authenticate(context.Background(), l.Admin.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
