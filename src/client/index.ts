// room-agent/client: the typed client of the agent's WebSocket JSON-RPC API.
export {
  type CallArgs,
  type ClientOptions,
  type ConnectionState,
  type MeetingFollow,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  RoomAgentClient,
  type Subscription,
  type TopicEvent,
  type TopicName,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export { CLIENT_ERROR_CODES, type ErrorName, RpcError } from './errors.js';
export { ERROR_CODES, METHOD_ROLES, type Methods, type Topics } from './methods.js';
export {
  type ApplyOutcome,
  applyMeetingDelta,
  type CallInsight,
  diffInsight,
  type Insight,
  type InsightSummary,
  type InstanceInsight,
  isMeetingDelta,
  type MeetingDelta,
  MeetingFollower,
  type MeetingSnapshot,
  type MeetingState,
  type ParticipantInsight,
  summarize,
} from './meeting-deltas.js';
