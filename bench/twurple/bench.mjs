// The @twurple/eventsub-ws side of Roadie's EventSub benchmark, driven by
// crates/roadie-test-support/benches/eventsub_vs_twurple.rs over stdin/stdout:
// it subscribes to channel.chat.message against the fake Twitch (EventSub URL through
// twurple's `url` option, Helix by routing twurple's requests for api.twitch.tv to the
// fake), prints `ready <subscription id>`, then `count <n>` whenever n reaches a mark
// the harness asked for on stdin (`mark <n>`).
import { ApiClient } from '@twurple/api';
import { EventSubWsListener } from '@twurple/eventsub-ws';
import { createInterface } from 'node:readline';

const [url, helixUrl, clientId, accessToken, userId] = process.argv.slice(2);
if (!url || !helixUrl || !clientId || !accessToken || !userId) {
    console.error('usage: bench.mjs <eventsub url> <helix url> <client id> <access token> <user id>');
    process.exit(2);
}

// twurple calls the global fetch with Twitch's real address; send those to the fake.
// (Its TWURPLE_MOCK_API_PORT switch would also move the WebSocket to that one port.)
const twitchHelix = 'https://api.twitch.tv/helix/';
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
    const target = String(input);
    return realFetch(
        target.startsWith(twitchHelix) ? `${helixUrl}/${target.slice(twitchHelix.length)}` : input,
        init,
    );
};

// A user-token provider for one known user: what StaticAuthProvider does once it has
// validated its token, without the validation call the fake does not serve.
const token = {
    accessToken,
    refreshToken: null,
    scope: ['user:read:chat'],
    expiresIn: null,
    obtainmentTimestamp: Date.now(),
    userId,
};
const authProvider = {
    clientId,
    authorizationType: 'Bearer',
    getCurrentScopesForUser: () => token.scope,
    getAccessTokenForUser: async () => token,
    getAccessTokenForIntent: async () => token,
    getAnyAccessToken: async () => token,
};

const logger = { minLevel: process.env.TWURPLE_BENCH_LOG ?? 'error' };
const apiClient = new ApiClient({ authProvider, logger });
const listener = new EventSubWsListener({ apiClient, url, logger });

let received = 0;
let textBytes = 0;
const marks = [];
listener.onChannelChatMessage(userId, userId, event => {
    // Touch what a bot reads, so the lazy event object does its work.
    textBytes += event.messageText.length + event.chatterName.length;
    received += 1;
    if (marks.length && received >= marks[0]) {
        marks.shift();
        process.stdout.write(`count ${received}\n`);
    }
});
listener.onSubscriptionCreateSuccess((_subscription, apiSubscription) => {
    process.stdout.write(`ready ${apiSubscription.id}\n`);
});
listener.onSubscriptionCreateFailure((_subscription, error) => {
    process.stdout.write(`failed ${String(error?.message ?? error).replace(/\s+/g, ' ')}\n`);
});

createInterface({ input: process.stdin }).on('line', line => {
    const [command, value] = line.trim().split(/\s+/);
    if (command === 'mark') {
        const mark = Number(value);
        if (received >= mark) process.stdout.write(`count ${received}\n`);
        else marks.push(mark);
    } else if (command === 'quit') {
        listener.stop();
        process.exit(textBytes >= 0 ? 0 : 1);
    }
}).on('close', () => process.exit(0));

listener.start();
