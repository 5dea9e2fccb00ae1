// Package trust sets up a data directory's trust anchor: the province
// hub's key that signs the roster (package roster), written as
// ProvinceKey in the directory's config.json.
//
// A directory gets its anchor once, at init (Choice: a key given, a roster
// bundle carried from the province whose signer becomes the anchor, the
// hub itself with MakeAnchor, or open mode for tests and labs), or later
// by importing a roster bundle (ImportBundle) into a directory that has
// none. Both rewrite config.json; nothing else in the tree does.
package trust
