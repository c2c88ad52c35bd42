package graph

// Resolver is the root of gqlgen's resolvers; every resolver reaches the
// API's dependencies through it.
type Resolver struct{ a *API }
