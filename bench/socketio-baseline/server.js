// The baseline for the benchmark: what a team could build instead with Socket.IO 4.
// Same job as the messaging gateway, in memory and without persistence:
//   POST /conversations {id, participants}  registers a conversation (setup)
//   POST /send {conversationId, userId, body, clientMessageId} assigns the next seq and
//        broadcasts `new-message` to the conversation's room, except the sender's sockets
//   socket.io connections authenticate with {userId} and join their conversations' rooms.
// It keeps messages in an array per conversation (never written to disk).
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);
const conversations = new Map(); // id -> { participants: Set, seq, messages: [] }
const userConversations = new Map(); // userId -> Set(conversationId)

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      try {
        resolve(JSON.parse(data || "{}"));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === "POST" && req.url === "/conversations") {
      const { id, participants } = await readJson(req);
      conversations.set(id, { participants: new Set(participants), seq: 0, messages: [] });
      for (const user of participants) {
        if (!userConversations.has(user)) userConversations.set(user, new Set());
        userConversations.get(user).add(id);
      }
      return reply(res, 201, { id });
    }
    if (req.method === "POST" && req.url === "/send") {
      const { conversationId, userId, body, clientMessageId } = await readJson(req);
      const conversation = conversations.get(conversationId);
      if (!conversation || !conversation.participants.has(userId)) return reply(res, 404, { error: "not found" });
      const message = {
        id: `${conversationId}:${conversation.seq + 1}`,
        conversationId,
        seq: ++conversation.seq,
        senderId: userId,
        body,
        clientMessageId,
        createdAt: new Date().toISOString(),
      };
      conversation.messages.push(message);
      io.to(`conv:${conversationId}`).except(`user:${userId}`).emit("new-message", { conversationId, message });
      return reply(res, 201, message);
    }
    reply(res, 404, { error: "not found" });
  } catch (e) {
    reply(res, 400, { error: String(e) });
  }
});

const io = new Server(server, { transports: ["websocket"], serveClient: false });
io.on("connection", (socket) => {
  const userId = socket.handshake.auth && socket.handshake.auth.userId;
  if (!userId) return socket.disconnect(true);
  socket.join(`user:${userId}`);
  for (const id of userConversations.get(userId) || []) socket.join(`conv:${id}`);
});

server.listen(port, "127.0.0.1", () => console.log(`socket.io baseline on 127.0.0.1:${port}`));
