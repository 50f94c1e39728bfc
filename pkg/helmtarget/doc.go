// Package helmtarget lets rollback's other paths (rollback run, preflight,
// guard, the controller) roll a Helm release back without Helm's library in
// their own process: Helm's library costs tens of MB of resident memory at
// start, which `rollback app undo` of a hundred Deployments must not pay.
//
// It holds the plans and results of pkg/helmrelease (which links Helm's
// library and aliases these types), their rendering, the Releases interface
// the other packages ask for, and Exec, which runs one operation in the
// rollback-helm program: a JSON Request on its stdin, JSON lines on its
// stdout (progress events, journal entries, then the result). The caller
// journals and renders what it receives, so a Helm release is a target of
// the caller's incident like a Deployment: the same journal, locks and
// step observer.
package helmtarget
