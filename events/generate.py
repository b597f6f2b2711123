#!/usr/bin/env python3
"""Writes the sample events in this folder: one API Gateway (or SQS) event per function
and REST route, shaped as API Gateway sends them, for `sam local invoke -e` and for the
test that replays every file through the real handlers (tests/tests/events_fixtures.rs).

Tokens are HS256 dev tokens signed with EVENTS_JWT_SECRET (also in env.json), valid until
2100, for the seeded fixture users. Rerun after changing a route:  python3 events/generate.py
"""

import base64, hashlib, hmac, json, os, re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EVENTS_JWT_SECRET = "events-fixture-secret-not-for-production-0001"

# Fixed ids the events test seeds before replaying an event.
CONVERSATION = "01J9Z3K7Q5R8T2V4W6X8Y0A1B2"
MESSAGE = "01J9Z3K7Q5R8T2V4W6X8Y0A1M3"
REPORT = "01J9Z3K7Q5R8T2V4W6X8Y0A1R4"
FILE = "01J9Z3K7Q5R8T2V4W6X8Y0A1F5"
CONNECTION = "Ev3ntsConnId0A="
SUBSCRIPTION = "Ev3ntsPushSubscription0"
# The local gateway's test notify secret (GatewayConfig::embedded): the unsubscribe key
# derives from it as messaging_backends::unsubscribe_key does.
NOTIFY_SECRET = b"local-gateway-test-notify-secret"

def unsubscribe_token(conversation: str, user: str) -> str:
    key = hashlib.sha256(b"messaging unsubscribe key\n" + NOTIFY_SECRET).digest()
    mac = hmac.new(key, f"unsubscribe\n{conversation}\n{user}".encode(), hashlib.sha256).digest()
    return f"{conversation}.{user}.{b64(mac)}"

USERS = {
    "u-client-ana": ("client", "Ana Alvarez"),
    "u-team-ben": ("team", "Ben Carter"),
    "u-admin-dana": ("admin", "Dana Reyes"),
}

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def token(user: str) -> str:
    role, name = USERS[user]
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": user, "role": role, "name": name, "iss": "messaging-local", "aud": "messaging",
              "iat": 1767225600, "exp": 4102444800}
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(EVENTS_JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"

# operationId -> (user, body or None, query or None, path parameter values)
REST = {
    "getMe": ("u-client-ana", None, None),
    "renameMe": ("u-client-ana", {"name": "Ana Alvarez-Ruiz"}, None),
    "searchPeople": ("u-client-ana", None, {"q": "ben"}),
    "listConversations": ("u-client-ana", None, {"limit": "20"}),
    "createConversation": ("u-team-ben", {"title": "Kickoff from an event", "participantIds": ["u-client-ana"]}, None),
    "getConversation": ("u-client-ana", None, None),
    "renameConversation": ("u-team-ben", {"title": "Renamed by an event"}, None),
    "addParticipants": ("u-team-ben", {"participantIds": ["u-team-cleo"]}, None),
    "removeParticipant": ("u-team-ben", None, None),
    "listMessages": ("u-client-ana", None, {"limit": "50"}),
    "sendMessage": ("u-client-ana", {"body": "Sent from a sample event", "clientMessageId": "event-1"}, None),
    "editMessage": ("u-team-ben", {"body": "Edited from a sample event"}, None),
    "deleteMessage": ("u-team-ben", None, None),
    "reportMessage": ("u-client-ana", {"reason": "Reported from a sample event"}, None),
    "addReaction": ("u-client-ana", {"emoji": "👍"}, None),
    "removeReaction": ("u-client-ana", None, {"emoji": "👍"}),
    "pinMessage": ("u-team-ben", None, None),
    "unpinMessage": ("u-team-ben", None, None),
    "listPins": ("u-client-ana", None, None),
    "getThread": ("u-client-ana", None, {"limit": "50"}),
    "markRead": ("u-client-ana", {"seq": 1}, None),
    "setPreferences": ("u-client-ana", {"muted": True}, None),
    "requestUploads": ("u-client-ana", {"files": [{"name": "plan.pdf", "size": 1024, "contentType": "application/pdf"}]}, None),
    "downloadFile": ("u-client-ana", None, None),
    "issueWebSocketTicket": ("u-client-ana", None, None),
    "getNotificationSettings": ("u-client-ana", None, None),
    "setNotificationSettings": ("u-client-ana", {"level": "mentions", "push": True, "email": True, "emailDelaySeconds": 600,
                                                 "quietHours": {"start": "22:00", "end": "07:00", "timeZone": "Europe/Paris"}}, None),
    "getPushConfig": ("u-client-ana", None, None),
    "listPushSubscriptions": ("u-client-ana", None, None),
    "addPushSubscription": ("u-client-ana", {"endpoint": "https://push.example.com/send/sample-event", "expirationTime": None,
                                             "keys": {"p256dh": "BPzdDZ4SSRyrKIJuq9CI-tQr9RhJsgwbfqWfhJFxP1o7L7SoFVaWGGmyvGoLuY0e6fbSGV9eHAf3n7V2E97q4kE",
                                                      "auth": "WCg2rCN39Qw5tzxTXvmdQg"}}, None),
    "removePushSubscription": ("u-client-ana", None, None),
    "unsubscribe": ("u-client-ana", None, None),
    "searchMessages": ("u-client-ana", None, {"q": "hello", "order": "newest"}),
    "adminListConversations": ("u-admin-dana", None, {"status": "open"}),
    "adminListMessages": ("u-admin-dana", None, {"limit": "50"}),
    "adminMessageAudit": ("u-admin-dana", None, None),
    "adminSetStatus": ("u-admin-dana", {"status": "archived"}, None),
    "adminListParticipants": ("u-admin-dana", None, None),
    "adminListReports": ("u-admin-dana", None, {"status": "open"}),
    "adminListUsers": ("u-admin-dana", None, {"status": "active"}),
    "adminSetUserState": ("u-admin-dana", {"active": True}, None),
    "adminSearchMessages": ("u-admin-dana", None, {"q": "hello"}),
    "adminResolveReport": ("u-admin-dana", {"status": "dismissed", "note": "Resolved from a sample event"}, None),
}

def routes():
    text = open(os.path.join(ROOT, "shared/http-api/src/routes.rs")).read()
    return re.findall(r'r\(\s*"(\w+)",\s*"([^"]+)",\s*"(\w+)",\s*(\w+),\s*\w+,?\s*\)', text)

def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()

def rest_event(method, resource, op):
    user, body, query = REST[op]
    if op == "unsubscribe":
        body = {"token": unsubscribe_token(CONVERSATION, "u-client-ana")}
    params = {}
    for name in re.findall(r"\{(\w+)\}", resource):
        params[name] = {"id": REPORT if "/reports/" in resource else CONVERSATION,
                        "messageId": MESSAGE, "fileId": FILE, "userId": "u-client-ana",
                        "subscriptionId": SUBSCRIPTION}[name]
    path = resource
    for k, v in params.items():
        path = path.replace("{" + k + "}", v)
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token(user)}",
               "Host": "abc123.execute-api.eu-west-1.amazonaws.com", "User-Agent": "sample-event",
               "X-Forwarded-Proto": "https"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "resourceId": "r1", "resourcePath": resource,
            "httpMethod": method, "stage": "prod", "path": "/prod" + path, "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "requestTimeEpoch": 1767225600000,
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "sample-event"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }

def ws_context(route_key, event_type, authorized=True):
    ctx = {
        "routeKey": route_key, "eventType": event_type, "connectionId": CONNECTION,
        "connectedAt": 1767225600000, "requestTimeEpoch": 1767225601000, "requestId": "Ev3nts-req-1",
        "messageId": "Ev3nts-msg-1", "messageDirection": "IN", "stage": "prod", "apiId": "ws123",
        "domainName": "ws123.execute-api.eu-west-1.amazonaws.com", "extendedRequestId": "Ev3nts-ext-1",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "sample-event"},
    }
    if authorized:
        ctx["authorizer"] = {"principalId": "u-client-ana", "userId": "u-client-ana", "role": "client", "name": "Ana Alvarez"}
    return ctx

def write(relative, event):
    path = os.path.join(HERE, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(event, f, indent=2, ensure_ascii=False)
        f.write("\n")

def main():
    for method, resource, op, function in routes():
        folder = "messaging-api" if function == "MessagingApi" else "admin-api"
        write(f"{folder}/{kebab(op)}.json", rest_event(method, resource, op))
    write("ws-authorizer/connect-with-ticket.json", {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:ws123/prod/$connect",
        "headers": {"Host": "ws123.execute-api.eu-west-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
        "queryStringParameters": {"ticket": "events-fixture-ticket"},
        "requestContext": ws_context("$connect", "CONNECT", authorized=False),
    })
    write("ws-connect/connect.json", {"requestContext": ws_context("$connect", "CONNECT"),
                                       "queryStringParameters": {"ticket": "events-fixture-ticket"},
                                       "headers": {"Host": "ws123.execute-api.eu-west-1.amazonaws.com"},
                                       "isBase64Encoded": False})
    disconnect = ws_context("$disconnect", "DISCONNECT")
    disconnect.update({"disconnectStatusCode": 1001, "disconnectReason": "Going away"})
    write("ws-disconnect/disconnect.json", {"requestContext": disconnect, "isBase64Encoded": False})
    for route, body in [("typing", {"action": "typing", "conversationId": CONVERSATION}),
                        ("stop-typing", {"action": "stop-typing", "conversationId": CONVERSATION}),
                        ("ping", {"action": "ping"}),
                        ("$default", {"action": "dance"})]:
        name = "default" if route == "$default" else route
        write(f"ws-message/{name}.json", {"requestContext": ws_context(route, "MESSAGE"),
                                          "body": json.dumps(body), "isBase64Encoded": False})
    record = lambda mid, body: {
        "messageId": mid, "receiptHandle": "AQEB-sample", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000",
                       "SenderId": "AROAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1767225606000"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(json.dumps(body).encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:messaging-delayed-tasks",
        "awsRegion": "eu-west-1",
    }
    write("delayed-tasks/typing-expiry-and-presence-check.json", {"Records": [
        record("11111111-1111-4111-8111-111111111111", {"task": "typing-expiry", "conversationId": CONVERSATION, "userId": "u-client-ana"}),
        record("22222222-2222-4222-8222-222222222222", {"task": "presence-check", "userId": "u-client-ana"}),
    ]})
    write("delayed-tasks/notifications.json", {"Records": [
        record("33333333-3333-4333-8333-333333333333", {"task": "notify-conversation", "conversationId": CONVERSATION, "fromSeq": 1}),
        record("44444444-4444-4444-8444-444444444444", {"task": "email-digest", "conversationId": CONVERSATION,
                                                         "userId": "u-client-ana", "fromSeq": 1}),
    ]})

    # The messages table's stream (NEW_IMAGE), as Lambda delivers it to search-indexer:
    # the fixture message edited, then a new message with an attachment.
    def message_image(mid, seq, sender, body, created, edited=None, files=()):
        image = {
            "conversation_id": {"S": CONVERSATION}, "seq": {"N": str(seq)}, "id": {"S": mid},
            "client_key": {"S": f"{sender}#c-{seq}"}, "sender_id": {"S": sender},
            "sender_name": {"S": USERS[sender][1]}, "client_message_id": {"S": f"c-{seq}"},
            "created_at": {"S": created}, "edit_count": {"N": "1" if edited else "0"},
            "body": {"S": body},
            "files": {"L": [{"M": {"id": {"S": f[0]}, "name": {"S": f[1]}, "size": {"N": str(f[2])},
                                   "contentType": {"S": f[3]}}} for f in files]},
            "revisions": {"L": []},
        }
        if edited:
            image["edited_at"] = {"S": edited}
        return image
    def stream_record(n, name, image):
        return {
            "eventID": f"{n:032x}", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": {"ApproximateCreationDateTime": 1767225600 + n,
                         "Keys": {"conversation_id": image["conversation_id"], "seq": image["seq"]},
                         "NewImage": image, "SequenceNumber": f"{n:021d}", "SizeBytes": 400,
                         "StreamViewType": "NEW_IMAGE"},
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/messaging-messages/stream/2026-01-01T00:00:00.000",
        }
    write("search-indexer/messages-stream.json", {"Records": [
        stream_record(1, "MODIFY", message_image(MESSAGE, 1, "u-team-ben", "fixture message, edited: quarterly forecast",
                                                 "2026-01-01T00:00:00Z", edited="2026-01-01T00:05:00Z")),
        stream_record(2, "INSERT", message_image("01J9Z3K7Q5R8T2V4W6X8Y0A1N6", 3, "u-client-ana", "the signed contract",
                                                 "2026-01-01T00:06:00Z",
                                                 files=[(FILE, "contract.pdf", 10, "application/pdf")])),
    ]})

if __name__ == "__main__":
    main()
