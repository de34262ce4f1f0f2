//! A fake YouTube on 127.0.0.1:0: Google OAuth (loopback code and device flow) and the Data API (live broadcasts, live chat messages, videos) with quota accounting and quota errors.
