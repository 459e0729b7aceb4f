#!/usr/bin/env bash
# A jitsi-admin API v1 client written only from jitsi-admin's documentation; any mismatch fails.
#
# Usage: jitsi_admin_client.sh BASE_URL API_KEY SERVER_URL MEMBER_EMAIL
#   BASE_URL      e.g. http://127.0.0.1:8080 (the jitsi-admin instance)
#   API_KEY       the server's API key (Enterprise settings), sent as "Authorization: Bearer"
#   SERVER_URL    the Jitsi server's URL as registered, e.g. meet.example.com; it must be
#                 allowed to be cloned for autoscaling (app:server:allowToClone)
#   MEMBER_EMAIL  a user who is a member of that server (the organiser)
# Wall-clock times are written in $CLIENT_TZ (default UTC): the instance's time zone.
#
# Every parameter goes in the query string, also for POST/PUT/DELETE, as the wiki's examples do.
# Checks are on the documented literals, with PHP's JSON escaping (\/, \u00f6, ...).
set -uo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 BASE_URL API_KEY SERVER_URL MEMBER_EMAIL" >&2
  exit 2
fi
base=${1%/}
key=$2
server=$3
member=$4
tz=${CLIENT_TZ:-UTC}
api="$base/api/v1"
guest="guest.$$@example.org"
clone_url="clone-$$.${server}"

step=""
body=""
status=""

fail() {
  echo "FAIL [$step]: $*" >&2
  echo "  HTTP $status: $body" >&2
  exit 1
}

# call METHOD URL: sets $status and $body.
call() {
  local out
  out=$(curl -sS --max-time 10 -X "$1" -H "Authorization: Bearer $key" -w '\n%{http_code}' "$2") ||
    fail "curl $1 $2 failed"
  status=${out##*$'\n'}
  body=${out%$'\n'*}
}

# Literal substring checks; the expected text is given as it appears on the wire.
expect_status() { [[ $status == "$1" ]] || fail "expected HTTP $1"; }
expect() { [[ $body == *"$1"* ]] || fail "expected $1"; }
expect_not() { [[ $body != *"$1"* ]] || fail "did not expect $1"; }

# Form-encodes one value (RFC 3986 unreserved characters stay, the rest is %XX).
enc() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [a-zA-Z0-9.~_-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

# JSON as PHP writes it: "/" becomes "\/".
json_text() { printf '%s' "${1//\//\\/}"; }

# A start 10 minutes ahead, YYYY-mm-ddThh:mm, so that getRooms?minutes=180 finds the room (with
# room to spare for an ambiguous wall-clock hour when DST ends).
start=$(TZ=$tz date -d '+10 minutes' +%Y-%m-%dT%H:%M)
start2=$(TZ=$tz date -d '+20 minutes' +%Y-%m-%dT%H:%M)

step="create (POST /api/v1/room)"
call POST "$api/room?email=$(enc "$member")&server=$(enc "$server")&name=$(enc "Daily standup")&start=$start&duration=30"
expect_status 200
expect '"error":false'
expect '"text":"Meeting erfolgreich angelegt"'
uid=$(sed -n 's/.*"uid":"\([^"]*\)".*/\1/p' <<<"$body")
[[ -n $uid ]] || fail "no uid in the answer"

step="info (GET /api/v1/info/{uid})"
call GET "$api/info/$uid"
expect_status 200
expect '"error":false'
expect '"name":"Daily standup"'
expect "\"teilnehmer\":[\"$member\"]"
expect "\"moderator\":\"$member\""
expect "\"server\":\"$(json_text "$server")\""
expect '"duration":30'
# start/end use PHP's 'Y-m-dTH:i:s': the T is the zone abbreviation (2021-02-02CET13:00:00).
day=${start%T*}
hhmm=${start#*T}
[[ $body =~ \"start\":\"${day}[A-Z0-9+-]+${hhmm}:00\" ]] || fail "start is not $day<zone>$hhmm:00"
expect '"joinBrowser":"http'
expect '"joinApp":"http'

step="getRooms (GET /api/v1/server/getRooms)"
call GET "$api/server/getRooms?minutes=180"
expect_status 200
expect '"success":true'
expect '"error":false'
expect "\"$uid\""
[[ $body =~ \"server_id\":([0-9]+) ]] || fail "no numeric server_id"
prototype_id=${BASH_REMATCH[1]}

step="add user (POST /api/v1/user)"
call POST "$api/user?uid=$uid&email=$(enc "$guest")"
expect_status 200
expect "\"uid\":\"$uid\""
expect "\"user\":\"$guest\""
expect '"error":false'
expect "\"text\":\"Teilnehmer $guest erfolgreich hinzugef\\u00fcgt\""
call GET "$api/info/$uid"
expect "\"teilnehmer\":[\"$member\",\"$guest\"]"

step="remove user (DELETE /api/v1/user)"
call DELETE "$api/user?uid=$uid&email=$(enc "$guest")"
expect_status 200
expect '"error":false'
expect "\"text\":\"Teilnehmer $guest erfolgreich gel\\u00f6scht\""
call GET "$api/info/$uid"
expect "\"teilnehmer\":[\"$member\"]"

step="edit (PUT /api/v1/room)"
call PUT "$api/room?uid=$uid&name=$(enc "Weekly review")&duration=45&server=$(enc "$server")&start=$start2"
expect_status 200
expect '"error":false'
expect "\"uid\":\"$uid\""
expect '"text":"Meeting erfolgreich ge\u00e4ndert"'
call GET "$api/info/$uid"
expect '"name":"Weekly review"'
expect '"duration":45'
[[ $body =~ \"start\":\"${start2%T*}[A-Z0-9+-]+${start2#*T}:00\" ]] || fail "start not moved"

step="clone (POST /api/v1/server/create)"
call POST "$api/server/create?url=$(enc "$clone_url")&name=$(enc "Autoscaled $$")"
expect_status 200
expect '"sucess":true'
expect '"error":false'
[[ $body =~ \"server_id\":([0-9]+) ]] || fail "no numeric server_id"
clone_id=${BASH_REMATCH[1]}
[[ $clone_id != "$prototype_id" ]] || fail "the clone has the prototype's id"

step="move (POST /api/v1/room/move/{uid})"
call POST "$api/room/move/$uid?serverId=$clone_id"
expect_status 200
expect '"error":false'
expect '"message":"Room moved"'
call GET "$api/info/$uid"
expect "\"server\":\"$(json_text "$clone_url")\""
call POST "$api/room/move/00000000000000000000000000000000?serverId=$clone_id"
expect_status 404
expect '"message":"Room not found"'

step="delete (DELETE /api/v1/room)"
call DELETE "$api/room?uid=$uid"
expect_status 200
expect '"error":false'
expect '"text":"Erfolgreich gel\u00f6scht"'
call DELETE "$api/room?uid=$uid"
expect_status 200
expect '"error":true'
expect '"text":"Room not found "'

step="serverInfo (GET /api/v1/serverInfo)"
call GET "$api/serverInfo?email=$(enc "$member")"
expect_status 200
expect '"error":false'
expect "\"server\":[\"$(json_text "$server")\"]"
expect "\"email\":\"$member\""
expect_not "$(json_text "$clone_url")"

echo "jitsi-admin client: all steps passed against $base"
