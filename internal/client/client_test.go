package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDoDecodesDataAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.Write([]byte(`{"errors":[{"message":"sign in first","extensions":{"code":"UNAUTHENTICATED"}}]}`))
			return
		}
		w.Write([]byte(`{"data":{"siteCount":3}}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ SiteCount int }
	if err := c.Do(context.Background(), "{ siteCount }", nil, &out); err != nil || out.SiteCount != 3 {
		t.Fatalf("Do = %+v, %v", out, err)
	}
	c.Token = "bad"
	err = c.Do(context.Background(), "{ siteCount }", nil, &out)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "UNAUTHENTICATED" || err.Error() != "unauthenticated: sign in first" {
		t.Errorf("error = %v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := New(u, ""); err == nil || !strings.Contains(err.Error(), "want http://host:port") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
}
