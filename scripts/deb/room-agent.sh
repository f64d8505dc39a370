#!/bin/sh
# /usr/bin/room-agent: the bundled Node runtime running the installed agent.
# V8 flags: a small young generation keeps idle memory low (docs/performance.md);
# set ROOM_AGENT_NODE_FLAGS (e.g. in a systemd drop-in) to override, "" for Node's defaults.
# One malloc arena: V8's helper threads otherwise keep freed memory in arenas
# of their own; set MALLOC_ARENA_MAX to override. Blocks of 32 KB and more by
# mmap, returned when freed (start's compiler memory otherwise stays in the
# heap); set MALLOC_MMAP_THRESHOLD_ to override.
export ROOM_AGENT_CONFIG="${ROOM_AGENT_CONFIG:-/etc/room-agent/api.toml}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-@MALLOC_ARENA_MAX@}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-@MALLOC_MMAP_THRESHOLD@}"
exec /opt/room-agent/node/bin/node ${ROOM_AGENT_NODE_FLAGS-@NODE_FLAGS@} /opt/room-agent/dist/agent/cli.js "$@"
