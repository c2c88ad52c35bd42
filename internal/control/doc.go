// Package control holds the controller's domain services: sites and their
// WAN links, paths, policies, users, keys and sign-in. They are the only
// writers of the store.
//
// Every mutation follows one shape (Service.write): check the caller's
// role, run the change and its audit entry in one transaction, and only
// after commit publish the events that subscriptions, caches and other
// replicas react to. So an audit entry exists exactly when its change does,
// and nobody hears of a change that was rolled back.
package control
