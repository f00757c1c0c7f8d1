package slackemu

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // users carry IANA zones; do not depend on the host's zoneinfo
)

// User is a workspace member as the emulator stores it. Empty TZLabel and zero TZOffset
// are derived from TZ each time they are read, so they follow daylight saving time the
// way Slack's tz_offset "changes silently".
type User struct {
	ID          string
	Name        string // handle, e.g. "asha"
	RealName    string
	DisplayName string
	TZ          string // IANA name, e.g. "Asia/Kolkata"
	TZLabel     string
	TZOffset    int // seconds east of UTC
	IsAdmin     bool
	IsOwner     bool
	IsBot       bool
	Deleted     bool
}

type userRec struct {
	User
	derivedTZ bool
}

type convKind int

const (
	convPublic convKind = iota
	convIM
)

// conversation is a channel or the bot's DM with one user, with its history.
type conversation struct {
	id      string
	name    string
	kind    convKind
	user    string // IM counterpart
	created int64
	general bool

	mu      sync.Mutex
	members []string // guarded by workspace.mu
	msgs    []Message
}

type workspace struct {
	s          *Server
	mu         sync.RWMutex
	users      map[string]*userRec
	order      []string
	convs      map[string]*conversation
	convByName map[string]string
	convOrder  []string
	chanSeq    int
}

func (w *workspace) init(s *Server) {
	w.s = s
	w.users = make(map[string]*userRec)
	w.convs = make(map[string]*conversation)
	w.convByName = make(map[string]string)
	now := time.Now().Unix()
	w.users[s.cfg.BotUserID] = &userRec{User: User{
		ID: s.cfg.BotUserID, Name: s.cfg.BotName, RealName: s.cfg.BotName, DisplayName: s.cfg.BotName,
		IsBot: true,
	}}
	w.order = append(w.order, s.cfg.BotUserID)
	w.addConvLocked(&conversation{id: LeaderboardChannelID, name: "path-leaderboard", created: now, members: []string{s.cfg.BotUserID}})
	w.addConvLocked(&conversation{id: GeneralChannelID, name: "general", created: now, general: true, members: []string{s.cfg.BotUserID}})
}

func (w *workspace) addConvLocked(c *conversation) {
	w.convs[c.id] = c
	if c.kind == convPublic {
		w.convByName[c.name] = c.id
	}
	w.convOrder = append(w.convOrder, c.id)
}

func (w *workspace) user(id string) (User, bool) {
	w.mu.RLock()
	u, ok := w.users[id]
	var out User
	if ok {
		out = u.resolved(time.Now())
	}
	w.mu.RUnlock()
	return out, ok
}

// userFacts is user without the time zone fields, which cost more to work out than the
// rest of the lookup: for callers that read none of them.
func (w *workspace) userFacts(id string) (name string, isBot, deleted, ok bool) {
	w.mu.RLock()
	if u, found := w.users[id]; found {
		name, isBot, deleted, ok = u.Name, u.IsBot, u.Deleted, true
	}
	w.mu.RUnlock()
	return name, isBot, deleted, ok
}

func (w *workspace) conv(id string) *conversation {
	w.mu.RLock()
	c := w.convs[id]
	w.mu.RUnlock()
	return c
}

func (w *workspace) isMember(c *conversation, userID string) bool {
	if c.kind == convIM {
		return userID == c.user || userID == w.s.cfg.BotUserID
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Contains(c.members, userID)
}

func (w *workspace) members(c *conversation) []string {
	if c.kind == convIM {
		return []string{c.user, w.s.cfg.BotUserID}
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(c.members)
}

// resolved fills the derived time zone fields for the moment t.
func (u *userRec) resolved(t time.Time) User {
	out := u.User
	if u.derivedTZ && out.TZ != "" {
		out.TZLabel, out.TZOffset = tzInfo(out.TZ, t)
	}
	return out
}

// AddUser adds a member (or replaces one with the same ID) and puts them in the public
// default channels. An empty ID gets a generated one.
func (s *Server) AddUser(u User) { s.AddUsers(u) }

// AddUsers is AddUser for many members at once, as a load test's thousands.
func (s *Server) AddUsers(users ...User) {
	w := &s.ws
	w.mu.Lock()
	// Members of the default channels, as a set once there are many users to add.
	var in map[*conversation]map[string]bool
	if len(users) > 16 {
		in = map[*conversation]map[string]bool{}
		for _, id := range []string{GeneralChannelID, LeaderboardChannelID} {
			if c := w.convs[id]; c != nil {
				in[c] = setOf(c.members...)
			}
		}
	}
	for _, u := range users {
		s.addUserLocked(u, in)
	}
	w.mu.Unlock()
	s.changed()
}

func (s *Server) addUserLocked(u User, in map[*conversation]map[string]bool) {
	w := &s.ws
	if u.ID == "" {
		u.ID = fmt.Sprintf("U%08X", s.seq.Add(1))
	}
	if u.Name == "" {
		u.Name = strings.ToLower(strings.ReplaceAll(firstNonEmpty(u.DisplayName, u.RealName, u.ID), " ", "."))
	}
	if u.RealName == "" {
		u.RealName = u.Name
	}
	rec := &userRec{User: u, derivedTZ: u.TZ != "" && u.TZLabel == "" && u.TZOffset == 0}
	if _, exists := w.users[u.ID]; !exists {
		w.order = append(w.order, u.ID)
		for _, id := range []string{GeneralChannelID, LeaderboardChannelID} {
			c := w.convs[id]
			if c == nil {
				continue
			}
			if set := in[c]; set != nil {
				if !set[u.ID] {
					set[u.ID] = true
					c.members = append(c.members, u.ID)
				}
			} else if !slices.Contains(c.members, u.ID) {
				c.members = append(c.members, u.ID)
			}
		}
	}
	w.users[u.ID] = rec
}

// SetUser updates a member, e.g. a time zone change or a deactivation (Deleted true).
func (s *Server) SetUser(u User) {
	w := &s.ws
	w.mu.Lock()
	if _, ok := w.users[u.ID]; !ok {
		w.mu.Unlock()
		s.AddUser(u)
		return
	}
	if u.Name == "" {
		u.Name = w.users[u.ID].Name
	}
	w.users[u.ID] = &userRec{User: u, derivedTZ: u.TZ != "" && u.TZLabel == "" && u.TZOffset == 0}
	w.mu.Unlock()
	s.changed()
}

// userCount is len(s.Users()).
func (s *Server) userCount() int {
	w := &s.ws
	w.mu.RLock()
	defer w.mu.RUnlock()
	return len(w.order)
}

// usersRange is s.Users()[lo:hi], hi clamped to the users there are, without copying the rest.
func (s *Server) usersRange(lo, hi int) []User {
	w := &s.ws
	now := time.Now()
	w.mu.RLock()
	defer w.mu.RUnlock()
	hi = min(hi, len(w.order))
	out := make([]User, 0, max(hi-lo, 0))
	for _, id := range w.order[min(lo, hi):hi] {
		out = append(out, w.users[id].resolved(now))
	}
	return out
}

// Users lists members in the order they were added, the bot user first.
func (s *Server) Users() []User {
	w := &s.ws
	now := time.Now()
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]User, 0, len(w.order))
	for _, id := range w.order {
		out = append(out, w.users[id].resolved(now))
	}
	return out
}

// AddChannel creates a public channel ("#" optional) with the given members and returns
// its id; an existing channel of that name gets the members added. Include the bot user
// id to invite the bot.
func (s *Server) AddChannel(name string, members ...string) string {
	name = strings.TrimPrefix(name, "#")
	w := &s.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.convs[w.convByName[name]]
	if c == nil {
		w.chanSeq++
		c = &conversation{id: fmt.Sprintf("C%08X", w.chanSeq), name: name, created: time.Now().Unix()}
		w.addConvLocked(c)
	}
	for _, m := range members {
		if !slices.Contains(c.members, m) {
			c.members = append(c.members, m)
		}
	}
	s.changed()
	return c.id
}

// ChannelID resolves "#name" or "name" to a channel id, "" if there is none.
func (s *Server) ChannelID(name string) string {
	w := &s.ws
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.convByName[strings.TrimPrefix(name, "#")]
}

// DMChannel returns the id of the bot's DM with userID ("D…"), opening it on demand as
// conversations.open does; "" for an unknown user.
func (s *Server) DMChannel(userID string) string {
	c := s.ws.im(userID)
	if c == nil {
		return ""
	}
	return c.id
}

func (w *workspace) im(userID string) *conversation {
	// Looked up without making the id a string: every slash command in a DM comes here.
	var buf [64]byte
	key := append(append(buf[:0], 'D'), strings.TrimPrefix(userID, "U")...)
	w.mu.RLock()
	c, ok := w.convs[string(key)]
	_, known := w.users[userID]
	w.mu.RUnlock()
	if ok {
		return c
	}
	if !known || userID == w.s.cfg.BotUserID {
		return nil
	}
	id := string(key)
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.convs[id]; ok {
		return c
	}
	c = &conversation{id: id, name: "directmessage", kind: convIM, user: userID, created: time.Now().Unix()}
	w.addConvLocked(c)
	return c
}

// SeedTeammates adds demo users in varied time zones; U0BEN is a workspace admin.
//
//	U0ASHA  asha   Asia/Kolkata         U0EMI   emi    Asia/Tokyo
//	U0BEN   ben    America/Los_Angeles  U0FINN  finn   Europe/London
//	U0CLARA clara  Europe/Berlin        U0GRACE grace  Australia/Sydney
//	U0DIEGO diego  America/Sao_Paulo
func (s *Server) SeedTeammates() {
	for _, u := range []User{
		{ID: "U0ASHA", Name: "asha", RealName: "Asha Iyer", DisplayName: "Asha", TZ: "Asia/Kolkata"},
		{ID: "U0BEN", Name: "ben", RealName: "Ben Okafor", DisplayName: "Ben (admin)", TZ: "America/Los_Angeles", IsAdmin: true},
		{ID: "U0CLARA", Name: "clara", RealName: "Clara Schmidt", DisplayName: "Clara", TZ: "Europe/Berlin"},
		{ID: "U0DIEGO", Name: "diego", RealName: "Diego Ramos", DisplayName: "Diego", TZ: "America/Sao_Paulo"},
		{ID: "U0EMI", Name: "emi", RealName: "Emi Sato", DisplayName: "Emi", TZ: "Asia/Tokyo"},
		{ID: "U0FINN", Name: "finn", RealName: "Finn Walsh", DisplayName: "Finn", TZ: "Europe/London"},
		{ID: "U0GRACE", Name: "grace", RealName: "Grace Lee", DisplayName: "Grace", TZ: "Australia/Sydney"},
	} {
		s.AddUser(u)
	}
}

// tzLabels holds Slack-style long zone names; Go only knows abbreviations.
var tzLabels = map[string][2]string{
	"Asia/Kolkata":        {"India Standard Time", "India Standard Time"},
	"America/Los_Angeles": {"Pacific Standard Time", "Pacific Daylight Time"},
	"America/Denver":      {"Mountain Standard Time", "Mountain Daylight Time"},
	"America/Chicago":     {"Central Standard Time", "Central Daylight Time"},
	"America/New_York":    {"Eastern Standard Time", "Eastern Daylight Time"},
	"America/Sao_Paulo":   {"Brasilia Standard Time", "Brasilia Standard Time"},
	"Europe/London":       {"Greenwich Mean Time", "British Summer Time"},
	"Europe/Dublin":       {"Greenwich Mean Time", "Irish Standard Time"},
	"Europe/Berlin":       {"Central European Time", "Central European Summer Time"},
	"Europe/Paris":        {"Central European Time", "Central European Summer Time"},
	"Asia/Tokyo":          {"Japan Standard Time", "Japan Standard Time"},
	"Asia/Singapore":      {"Singapore Standard Time", "Singapore Standard Time"},
	"Australia/Sydney":    {"Australian Eastern Standard Time", "Australian Eastern Daylight Time"},
	"UTC":                 {"Universal Coordinated Time", "Universal Coordinated Time"},
}

// locations caches time.LoadLocation, which parses zone data on every call and would
// otherwise dominate users.info under load.
var locations sync.Map // name -> *time.Location, or nil for unknown names

func tzInfo(name string, t time.Time) (string, int) {
	v, ok := locations.Load(name)
	if !ok {
		loc, err := time.LoadLocation(name)
		if err != nil {
			loc = nil
		}
		v, _ = locations.LoadOrStore(name, loc)
	}
	loc, _ := v.(*time.Location)
	if loc == nil {
		return "", 0
	}
	lt := t.In(loc)
	abbr, off := lt.Zone()
	if l, ok := tzLabels[name]; ok {
		if lt.IsDST() {
			return l[1], off
		}
		return l[0], off
	}
	return abbr, off
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
