// Package web serves the dashboard: the single-page application built from
// web/ by Vite, embedded into the binary so that a controller needs no
// files beside it and works offline.
//
// The build writes to dist/app, which git ignores; dist/.gitkeep is
// committed so that the embed directive always compiles. A binary built
// without running the web build (a fresh clone, go build ./...) serves a
// page that says how to build the dashboard instead of a broken one.
//
// Hashed files under /assets/ are cached for a year; index.html is
// revalidated on every load, so a new binary's dashboard is picked up at
// once. Any other path without a file extension is a client-side route and
// gets index.html.
package web
