//go:build !linux

package lab

import (
	"errors"
	"log/slog"
)

var errNoNetNS = errors.New("lab: site network namespaces need Linux; run without --netns for the rootless netstacks")

func checkNetNS() error { return errNoNetNS }

func newNSSite(string, int, *slog.Logger) (siteLAN, error) { return nil, errNoNetNS }
