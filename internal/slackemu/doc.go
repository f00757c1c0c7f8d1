// Package slackemu is a local, in-process stand-in for the parts of Slack that pathbot
// talks to, faithful enough that the real slack-go client (socketmode and Web API) runs
// against it unchanged: apps.connections.open with one-use tickets, the Socket Mode
// WebSocket (hello, server pings every PingInterval, disconnect frames, at most ten links,
// envelopes spread across links, ack deadlines, dispatch_failed for unacked slash
// commands, redelivery of unacked events_api envelopes with retry_attempt/retry_reason,
// acks of 20,480 bytes or more silently dropped), the Web API methods pathbot uses
// (auth.test, chat.postMessage/postEphemeral/update/delete, conversations.open/info/members,
// users.info/list, views.open/push/update/publish) with Slack's token rules, error codes
// and Block Kit limits, response_url (five uses in thirty minutes) and configurable 429s.
// It drives the bot as users would, through synchronous and asynchronous helpers for tests
// and load tests, and through a small web UI served at "/" (plain HTML, CSS and JavaScript
// embedded with go:embed). It refuses what Slack refuses, but it is not Slack: there is no
// RTM, no OAuth or scopes, no Events API over HTTP, no threads UI, files, reactions,
// shortcuts, message events for human messages, private channels or multi-person DMs,
// no enterprise grid, and rich_text, table, video and file blocks are checked only for
// their shape. Where Slack's behaviour is undocumented (the exact text of error lines,
// response_url error bodies) the emulator picks one plausible behaviour and documents it
// next to the code.
package slackemu
