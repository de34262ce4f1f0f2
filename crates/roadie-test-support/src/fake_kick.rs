//! A fake Kick on 127.0.0.1:0: OAuth (id.kick.com), the public API, the channel-info endpoint and a Pusher-protocol WebSocket, fed from the real fixtures.
