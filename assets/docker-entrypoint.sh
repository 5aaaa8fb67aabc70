#!/usr/bin/env bash
# Entrypoint of devdb's Postgres images, built from Debian packages.
#
# It offers the interface of the official postgres image so that compose files written
# for that image work unchanged:
#   POSTGRES_PASSWORD, POSTGRES_USER (default postgres), POSTGRES_DB (default the user),
#   POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD, the *_FILE
#   variants for Docker secrets, and /docker-entrypoint-initdb.d/* (*.sh, *.sql, *.sql.gz,
#   *.sql.xz) run once, in name order, when the data directory is empty.
#
# No `set -u`: scripts in /docker-entrypoint-initdb.d are sourced into this shell and many
# were written for the official image, which does not set it either.
set -Eeo pipefail

say() {
	printf 'devdb-entrypoint: %s\n' "$*"
}

fail() {
	printf 'devdb-entrypoint: error: %s\n' "$*" >&2
	exit 1
}

# Sets VAR from VAR or from the file named by VAR_FILE (Docker secrets), else to DEFAULT.
load_setting() {
	local var="$1" default="${2:-}"
	local file_var="${var}_FILE"
	if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
		fail "both $var and $file_var are set: set only one of them"
	fi
	local value="$default"
	if [[ -n "${!var:-}" ]]; then
		value="${!var}"
	elif [[ -n "${!file_var:-}" ]]; then
		[[ -r "${!file_var}" ]] || fail "$file_var names ${!file_var}, which cannot be read"
		value="$(<"${!file_var}")"
	fi
	export "$var=$value"
	unset "$file_var"
}

# True when the arguments only ask postgres for information: no database is needed.
wants_information_only() {
	local arg
	for arg; do
		case "$arg" in
		-'?' | --help | -V | --version | -C | --describe-config) return 0 ;;
		esac
	done
	return 1
}

# Creates the data, socket and WAL directories. As root it also hands them to postgres;
# as another user (docker run --user) it does what that user may.
prepare_directories() {
	local is_root="$1"
	mkdir -p "$PGDATA"
	# A bind-mounted folder may refuse the chmod; initdb reports it if it matters.
	chmod 700 "$PGDATA" 2>/dev/null || :
	mkdir -p /var/run/postgresql
	chmod 3777 /var/run/postgresql 2>/dev/null || :
	if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		chmod 700 "$POSTGRES_INITDB_WALDIR" 2>/dev/null || :
	fi
	if [[ "$is_root" == 1 ]]; then
		find "$PGDATA" /var/run/postgresql ${POSTGRES_INITDB_WALDIR:+"$POSTGRES_INITDB_WALDIR"} \
			\! -user postgres -exec chown postgres:postgres '{}' +
	fi
}

require_password() {
	if [[ -z "$POSTGRES_PASSWORD" && "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]]; then
		cat >&2 <<-'EOM'
			devdb-entrypoint: error: the database is not initialised and no superuser password is set.
			  Set POSTGRES_PASSWORD to a non-empty value, for example
			    docker run -e POSTGRES_PASSWORD=secret ...
			  or set POSTGRES_HOST_AUTH_METHOD=trust to let every client connect without a
			  password (only for a throwaway development database).
		EOM
		exit 1
	fi
}

# shellcheck disable=SC2034 # waldir is used inside eval
run_initdb() {
	local waldir=()
	if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
		waldir=(--waldir="$POSTGRES_INITDB_WALDIR")
	fi
	# eval, like the official image, so that quotes inside POSTGRES_INITDB_ARGS are honoured.
	if [[ -n "$POSTGRES_PASSWORD" ]]; then
		eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"' "${waldir[@]}"'
	else
		eval 'initdb --username="$POSTGRES_USER" '"$POSTGRES_INITDB_ARGS"' "${waldir[@]}"'
	fi
}

configure_access() {
	local method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
	{
		printf '\n'
		if [[ "$method" == trust ]]; then
			printf '# POSTGRES_HOST_AUTH_METHOD=trust: any client may connect as any user without a password.\n'
		fi
		printf 'host all all all %s\n' "$method"
	} >>"$PGDATA/pg_hba.conf"
}

# The temporary server takes the container's own postgres options (shared_preload_libraries
# and the like) but listens on the unix socket only, so no client connects before we are done.
start_temporary_server() {
	shift # postgres
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

# psql into database $1 on the unix socket of the temporary server, stopping at the
# first error.
init_psql() {
	local database="$1"
	shift
	PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
		--username "$POSTGRES_USER" --dbname "$database" "$@"
}

create_database() {
	if [[ "$POSTGRES_DB" == postgres ]]; then
		return
	fi
	local exists
	exists="$(init_psql postgres --tuples-only --no-align --set db="$POSTGRES_DB" \
		<<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
	if [[ -z "$exists" ]]; then
		say "creating database $POSTGRES_DB"
		init_psql postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
}

run_init_files() {
	local file
	shopt -s nullglob
	for file in /docker-entrypoint-initdb.d/*; do
		case "$file" in
		*.sh)
			if [[ -x "$file" ]]; then
				say "running $file"
				"$file"
			else
				say "sourcing $file"
				# shellcheck source=/dev/null
				. "$file"
			fi
			;;
		*.sql)
			say "running $file"
			init_psql "$POSTGRES_DB" -f "$file"
			;;
		*.sql.gz)
			say "running $file"
			gunzip -c "$file" | init_psql "$POSTGRES_DB"
			;;
		*.sql.xz)
			say "running $file"
			xzcat "$file" | init_psql "$POSTGRES_DB"
			;;
		*) say "ignoring $file (not .sh, .sql, .sql.gz or .sql.xz)" ;;
		esac
	done
	shopt -u nullglob
}

initialise() {
	load_setting POSTGRES_PASSWORD
	load_setting POSTGRES_USER postgres
	load_setting POSTGRES_DB "$POSTGRES_USER"
	load_setting POSTGRES_INITDB_ARGS
	require_password

	run_initdb
	configure_access

	export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
	start_temporary_server "$@"
	create_database
	run_init_files
	pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD

	say "PostgreSQL init process complete; ready for start up."
}

main() {
	if [[ "${1:-}" == -* ]]; then
		set -- postgres "$@"
	fi
	if [[ "${1:-}" != postgres ]] || wants_information_only "$@"; then
		exec "$@"
	fi

	if [[ "$(id -u)" == 0 ]]; then
		prepare_directories 1
		exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
	fi

	prepare_directories 0
	if [[ -s "$PGDATA/PG_VERSION" ]]; then
		say "$PGDATA already holds a database: skipping initialisation"
	else
		initialise "$@"
	fi
	exec "$@"
}

main "$@"
