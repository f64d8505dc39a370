#!/bin/sh
# /usr/bin/room-agent: the bundled Node runtime running the installed agent.
export ROOM_AGENT_CONFIG="${ROOM_AGENT_CONFIG:-/etc/room-agent/api.toml}"
exec /opt/room-agent/node/bin/node /opt/room-agent/dist/src/cli.js "$@"
