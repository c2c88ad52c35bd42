// Package auth decides who a caller is: it hashes and checks passwords
// (argon2id, PHC strings), issues and verifies access and renewal tokens
// (JWT, HS256 pinned, expiry required, revocable through a per-user epoch),
// mints API keys and site credentials (a random secret behind a public
// lookup prefix, of which only a SHA-256 is stored), and rate-limits login
// attempts.
//
// What a caller may do once known is the Role in its Principal; the
// controller's services and the API enforce it.
package auth
