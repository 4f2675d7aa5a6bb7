package policy

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
)

// The action catalogs: for each service, every action IAM knows with the
// resource types it is authorised on, and each resource type's ARN format.
// They come from the AWS Service Authorization Reference; each file's
// "source" names the page and the copy it was read from (catalog/README.md).
//
//go:embed catalog/*.json
var catalogFiles embed.FS

// Service is one service's catalog.
type Service struct {
	Prefix string `json:"service"`
	Source string `json:"source"`
	// ResourceTypes maps a resource type to its ARN format, with
	// placeholders such as ${Region} and ${BucketName}.
	ResourceTypes map[string]string `json:"resources"`
	// Actions maps an action name to its access level and the resource
	// types it is authorised on.
	Actions map[string]Action `json:"actions"`

	names []string // action names, sorted
	full  []string // the same as "prefix:Name"
	lower []string // the same in lower case
}

// Action is one action of a service's catalog.
type Action struct {
	// Access is the access level the reference gives it: List, Read,
	// Write, Permissions management or Tagging.
	Access string `json:"access"`
	// Resources are the resource types it is authorised on; a trailing *
	// marks a required one. None means the action is authorised on "*".
	Resources []string `json:"resources"`

	types []string // Resources without the marker
}

// accessLevels are the access levels of the Service Authorization
// Reference, most powerful first.
var accessLevels = []string{"Permissions management", "Write", "Tagging", "Read", "List"}

// AccessRank orders access levels, most powerful first; an unknown level
// comes last.
func AccessRank(level string) int {
	if i := slices.Index(accessLevels, level); i >= 0 {
		return i
	}
	return len(accessLevels)
}

// Access returns an action's access level, "" for an unknown action.
func (s *Service) Access(action string) string { return s.Actions[action].Access }

// ActionNames returns the service's action names in order.
func (s *Service) ActionNames() []string { return s.names }

// FullActions returns the service's actions as "prefix:Name", in the order of
// ActionNames.
func (s *Service) FullActions() []string { return s.full }

// LowerActions returns the service's actions as "prefix:name" in lower
// case, in the order of ActionNames.
func (s *Service) LowerActions() []string { return s.lower }

// ResourceTypesOf returns the resource types an action is authorised on,
// without the required marker.
func (s *Service) ResourceTypesOf(action string) []string { return s.Actions[action].types }

// Catalog is every service's catalog, by prefix.
type Catalog struct {
	services map[string]*Service
	prefixes []string
}

var (
	loadOnce sync.Once
	loaded   *Catalog
	loadErr  error
)

// LoadCatalog reads the embedded catalogs once.
func LoadCatalog() (*Catalog, error) {
	loadOnce.Do(func() { loaded, loadErr = readCatalog(catalogFiles) })
	return loaded, loadErr
}

func readCatalog(fsys fs.FS) (*Catalog, error) {
	files, err := fs.Glob(fsys, "catalog/*.json")
	if err != nil {
		return nil, fmt.Errorf("list the action catalogs: %w", err)
	}
	c := &Catalog{services: map[string]*Service{}}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read the action catalog %s: %w", f, err)
		}
		var s Service
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("the action catalog %s is not valid: %w", f, err)
		}
		if s.Prefix == "" || s.Source == "" || len(s.Actions) == 0 {
			return nil, fmt.Errorf("the action catalog %s needs service, source and actions", f)
		}
		for name, a := range s.Actions {
			if AccessRank(a.Access) == len(accessLevels) {
				return nil, fmt.Errorf("the action catalog %s: %s:%s has the unknown access level %q", f, s.Prefix, name, a.Access)
			}
			for _, t := range a.Resources {
				if _, ok := s.ResourceTypes[strings.TrimSuffix(t, "*")]; !ok {
					return nil, fmt.Errorf("the action catalog %s: %s:%s names resource type %q, which it does not define", f, s.Prefix, name, t)
				}
			}
			for _, t := range a.Resources {
				a.types = append(a.types, strings.TrimSuffix(t, "*"))
			}
			s.Actions[name] = a
			s.names = append(s.names, name)
		}
		slices.Sort(s.names)
		for _, n := range s.names {
			s.full = append(s.full, s.Prefix+":"+n)
			s.lower = append(s.lower, strings.ToLower(s.Prefix+":"+n))
		}
		c.services[s.Prefix] = &s
		c.prefixes = append(c.prefixes, s.Prefix)
	}
	slices.Sort(c.prefixes)
	return c, nil
}

// Service returns a service's catalog by its prefix (case-insensitive).
func (c *Catalog) Service(prefix string) (*Service, bool) {
	s, ok := c.services[strings.ToLower(prefix)]
	return s, ok
}

// Prefixes lists the services the catalog holds.
func (c *Catalog) Prefixes() []string { return c.prefixes }

// Services returns the service prefixes a document's statements name,
// lower-cased and sorted, and whether some statement reaches every service
// ("*", or NotAction, which grants everything it does not list).
func (d *Document) Services() (prefixes []string, all bool) {
	seen := map[string]bool{}
	for _, s := range d.Statements {
		if s.NotAction != nil {
			all = true
		}
		for _, a := range s.Action {
			prefix, _, ok := strings.Cut(a, ":")
			if !ok {
				all = true
				continue
			}
			seen[strings.ToLower(prefix)] = true
		}
	}
	for p := range seen {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	return prefixes, all
}

// ForAction returns the document reduced to the statements whose Action or
// NotAction covers the action, or nil when none does: evaluating one action
// against many resources then skips the others. Evaluate gives the same
// decision for that action on the reduced document.
func (d *Document) ForAction(action string) *Document {
	var keep []Statement
	action = strings.ToLower(action)
	for i := range d.Statements {
		if d.Statements[i].coversAction(action) {
			keep = append(keep, d.Statements[i])
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return &Document{Type: d.Type, Version: d.Version, ID: d.ID, Statements: keep}
}
