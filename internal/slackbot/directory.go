package slackbot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// SlackDirectory answers Profile from users.info, caching each answer for TTL. Time zones change
// rarely but do change (people travel), so entries expire rather than living forever.
type SlackDirectory struct {
	API *slack.Client
	TTL time.Duration
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedProfile
}

type cachedProfile struct {
	p       Profile
	fetched time.Time
}

// Profile returns a user's display name, time zone and admin flags.
func (d *SlackDirectory) Profile(ctx context.Context, userID string) (Profile, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	ttl := d.TTL
	if ttl == 0 {
		ttl = 6 * time.Hour
	}
	d.mu.Lock()
	c, ok := d.cache[userID]
	d.mu.Unlock()
	if ok && now().Sub(c.fetched) < ttl {
		return c.p, nil
	}
	var u *slack.User
	err := Retry(ctx, func() error {
		var err error
		u, err = d.API.GetUserInfoContext(ctx, userID)
		return err
	})
	if err != nil {
		return Profile{}, fmt.Errorf("users.info %s: %w", userID, err)
	}
	p := Profile{
		ID:          u.ID,
		DisplayName: u.Profile.DisplayName,
		TZ:          u.TZ,
		IsAdmin:     u.IsAdmin || u.IsOwner || u.IsPrimaryOwner,
		IsBot:       u.IsBot,
		Deleted:     u.Deleted,
	}
	if p.DisplayName == "" {
		p.DisplayName = u.RealName
	}
	if p.DisplayName == "" {
		p.DisplayName = u.Name
	}
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[string]cachedProfile{}
	}
	d.cache[userID] = cachedProfile{p: p, fetched: now()}
	d.mu.Unlock()
	return p, nil
}

// ChannelMembers lists a channel's members (conversations.members, all pages).
func (d *SlackDirectory) ChannelMembers(ctx context.Context, channelID string) ([]string, error) {
	var all []string
	cursor := ""
	for {
		var ids []string
		var next string
		err := Retry(ctx, func() error {
			var err error
			ids, next, err = d.API.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: channelID, Cursor: cursor, Limit: 200})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("conversations.members %s: %w", channelID, err)
		}
		all = append(all, ids...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
}
