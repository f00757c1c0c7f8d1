// Package e2e tests pathbot from the outside, the way it runs in production: the real binary,
// built once per test run, runs `pathbot serve` as a subprocess against a fresh PostgreSQL
// database and the local Slack emulator (package slackemu), which plays the users. The browser
// tests drive the emulator's web UI in headless Chromium, as a person trying pathbot would, and
// save screenshots to artifacts/ at the repository root. The package has only tests; this file
// holds its documentation.
package e2e
