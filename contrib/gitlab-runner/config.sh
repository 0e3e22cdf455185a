#!/usr/bin/env bash
# config_exec: where the job's sources and cache go, and who runs it.
# SPDX-License-Identifier: MIT
set -eu
. "$(dirname "$0")/base.sh"
version=$("$USBOX" --version 2>/dev/null | awk '{print $2}') || true
cat <<JSON
{
  "builds_dir": "$builds_dir",
  "cache_dir": "$cache_dir",
  "builds_dir_is_shared": false,
  "hostname": "$name",
  "driver": { "name": "usbox", "version": "${version:-unknown}" }
}
JSON
