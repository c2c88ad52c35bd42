// Package sdwan holds Patronus's domain types — sites, their WAN links
// (endpoints), the paths between them, path metrics, routing policies,
// policy statistics, users and audit entries — together with their
// validation.
//
// It imports nothing from the rest of the project so that every layer (the
// store, the controller's services, the API, the edge) can share one
// vocabulary. Validation errors are *FieldError values that name the field
// and the reason, so the API can point a person at what to fix.
package sdwan
