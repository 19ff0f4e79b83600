package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"
)

// Role is what an API key may do. Each key has exactly one role.
type Role string

// The three roles: portals register records and search; investigators read
// everything and decide on matches; admins may also run jobs and read the
// audit log.
const (
	RolePortal       Role = "portal"
	RoleInvestigator Role = "investigator"
	RoleAdmin        Role = "admin"
)

// allRoles lists every role.
func allRoles() []Role { return []Role{RolePortal, RoleInvestigator, RoleAdmin} }

// readerRoles lists the roles that may read records: GET /v1/children/{id},
// photos and the review queue. Only they see explanations that quote the
// records (models.Contribution.Detail).
func readerRoles() []Role { return []Role{RoleInvestigator, RoleAdmin} }

// readsRecords reports whether r is among readerRoles.
func (r Role) readsRecords() bool { return slices.Contains(readerRoles(), r) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RolePortal || r == RoleInvestigator || r == RoleAdmin
}

// MinKeyLength is the shortest secret ParseKeys accepts: the key id is a
// short hash of the secret, so a guessable secret could be recovered from
// the audit log.
const MinKeyLength = 16

// Key is one API key: its role and its secret. Its String and LogValue
// show the role and key id only, so a Key printed by mistake leaks nothing.
type Key struct {
	Role   Role
	Secret string
}

// ID is the key's public name in logs and the audit trail: the first 12
// hex digits of the SHA-256 of the secret, never the secret itself.
func (k Key) ID() string { return keyID(k.Secret) }

// String shows the role and key id, never the secret.
func (k Key) String() string { return string(k.Role) + ":" + k.ID() }

// LogValue makes slog print the role and key id, never the secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("role", string(k.Role)), slog.String("key_id", k.ID()))
}

func keyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// ParseKeys reads TRACKMATCH_API_KEYS: comma-separated role:secret pairs,
// e.g. "portal:s3cret-portal-key-1,admin:another-long-secret". It refuses
// unknown roles, secrets shorter than MinKeyLength or containing spaces or
// control characters, a secret listed twice, and an empty list. Errors name
// the pair by position, never by secret.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := make(map[string]bool)
	for i, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		role, secret, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("api keys: pair %d: want role:key", i+1)
		}
		r := Role(strings.TrimSpace(role))
		if !r.Valid() {
			return nil, fmt.Errorf("api keys: pair %d: unknown role %q (want %s, %s or %s)", i+1, r, RolePortal, RoleInvestigator, RoleAdmin)
		}
		if len(secret) < MinKeyLength {
			return nil, fmt.Errorf("api keys: pair %d: key shorter than %d characters", i+1, MinKeyLength)
		}
		if strings.IndexFunc(secret, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0 {
			return nil, fmt.Errorf("api keys: pair %d: key contains a space or control character", i+1)
		}
		if seen[secret] {
			return nil, fmt.Errorf("api keys: pair %d: key listed twice", i+1)
		}
		seen[secret] = true
		keys = append(keys, Key{Role: r, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("api keys: none given (want comma-separated role:key pairs)")
	}
	return keys, nil
}
