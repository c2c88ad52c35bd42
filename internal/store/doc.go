// Package store keeps Patronus's state in a SQL database: SQLite (embedded,
// the default, no set-up) or PostgreSQL (for several controller replicas).
//
// One set of hand-written SQL serves both engines: both bind $1..$N
// placeholders, both understand RETURNING and ON CONFLICT, and times are
// stored as BIGINT Unix milliseconds so no engine-specific time type leaks
// in. The schema lives in migrations/<engine>/*.sql, append-only files run
// by goose at start-up; the two directories hold the same migrations and
// differ only where the engines' DDL must (auto-increment keys, changing a
// table's key).
//
// Sites, endpoints and paths have an integer key, pk, beside their UUID,
// id: the foreign keys between them and from the paths' metrics and events
// run over the integers, which the tables' indexes compare and store far
// more cheaply than 36-character text. The integers never leave the
// package; every query reads and takes the UUIDs.
//
// Writes go through Store.Tx, which hands a Q bound to one transaction to a
// function; every operation is a method on Q, so a caller composes several
// (delete a site and write its audit entry) into one transaction, the way
// headscale's db package does. Reads use Store.Read. Driver errors never
// escape: unique and foreign-key violations come back as sdwan.ErrConflict
// and sdwan.ErrNotFound wrapped with context.
//
// Deleting an endpoint or a path relies on ON DELETE CASCADE, and so does
// anything a hard site delete (which removes a site's rows table by table)
// would miss, so SQLite is opened with foreign_keys on; without it cascades
// would silently do nothing.
package store
