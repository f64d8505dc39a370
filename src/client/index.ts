// room-agent/client: the typed client of the agent's WebSocket JSON-RPC API.
export {
  type CallArgs,
  type ClientOptions,
  type ConnectionState,
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
