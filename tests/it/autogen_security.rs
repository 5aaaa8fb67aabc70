//! `new --autogenerate` round trips for row-level security and policies, rules, event
//! triggers, default privileges and extension comments: each pair is added, changed or
//! dropped in one direction by the generated up and in the other by its down.

use crate::autogen::{project, round_trip};
use crate::schemas::make_roles;

/// Row-level security and policies. The roles the policies name are made by the test.
const POLICY_PAIRS: &[(&str, &str, &str)] = &[
    (
        "row_level_security_enabled_and_forced",
        "CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE TABLE item (id int PRIMARY KEY); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         ALTER TABLE item FORCE ROW LEVEL SECURITY;",
    ),
    (
        "row_level_security_forced_on_a_new_table_without_enabling_it",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TABLE item (id int); ALTER TABLE item FORCE ROW LEVEL SECURITY;",
    ),
    (
        "a_using_true_policy_added",
        "CREATE TABLE item (id int PRIMARY KEY); ALTER TABLE item ENABLE ROW LEVEL SECURITY;",
        "CREATE TABLE item (id int PRIMARY KEY); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY anyone ON item USING (true);",
    ),
    (
        "policies_for_several_roles_and_commands_on_a_new_table",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE TABLE item (id int PRIMARY KEY, owner text NOT NULL DEFAULT current_user, qty int); \
         ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY item_read ON item FOR SELECT TO reader, writer USING (true); \
         CREATE POLICY item_add ON item FOR INSERT TO writer WITH CHECK (owner = current_user); \
         CREATE POLICY item_change ON item FOR UPDATE TO writer USING (owner = current_user) WITH CHECK (qty > 0); \
         CREATE POLICY item_remove ON item FOR DELETE TO PUBLIC USING (owner = current_user); \
         CREATE POLICY only_positive ON item AS RESTRICTIVE FOR ALL TO reader USING (qty > 0); \
         COMMENT ON POLICY item_read ON item IS 'everyone reads';",
    ),
    (
        "policy_roles_changed",
        "CREATE TABLE item (id int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY p ON item TO reader USING (id > 0);",
        "CREATE TABLE item (id int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY p ON item TO reader, writer USING (id > 0);",
    ),
    (
        "policy_expressions_changed_and_with_check_added",
        "CREATE TABLE item (id int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY p ON item USING (id > 0);",
        "CREATE TABLE item (id int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY p ON item USING (id > 10) WITH CHECK (id > 20);",
    ),
    (
        "policy_turned_restrictive",
        "CREATE TABLE item (id int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY p ON item AS PERMISSIVE USING (id > 0);",
        "CREATE TABLE item (id int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY p ON item AS RESTRICTIVE USING (id > 0);",
    ),
    (
        "policy_command_changed",
        "CREATE TABLE item (id int); CREATE POLICY p ON item FOR SELECT USING (id > 0);",
        "CREATE TABLE item (id int); CREATE POLICY p ON item FOR UPDATE USING (id > 0) WITH CHECK (id > 1);",
    ),
    (
        "policy_calling_a_new_function",
        "CREATE TABLE item (id int, tenant int); ALTER TABLE item ENABLE ROW LEVEL SECURITY;",
        "CREATE SCHEMA app; \
         CREATE FUNCTION app.tenant() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$; \
         CREATE TABLE item (id int, tenant int); ALTER TABLE item ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY by_tenant ON item USING (tenant = app.tenant());",
    ),
    (
        "policy_over_a_function_whose_result_changes",
        "CREATE FUNCTION tenant() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$; \
         CREATE TABLE item (id int, tenant bigint); CREATE POLICY by_tenant ON item USING (tenant = tenant());",
        "CREATE FUNCTION tenant() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 1::bigint $$; \
         CREATE TABLE item (id int, tenant bigint); CREATE POLICY by_tenant ON item USING (tenant = tenant());",
    ),
    (
        "policy_over_a_retyped_column",
        "CREATE TABLE item (id int, qty int); CREATE POLICY positive ON item USING (qty > 0);",
        "CREATE TABLE item (id int, qty bigint); CREATE POLICY positive ON item USING (qty > 0);",
    ),
    (
        "policy_over_a_dropped_column_goes_with_it",
        "CREATE TABLE item (id int, hidden boolean); CREATE POLICY visible ON item USING (NOT hidden);",
        "CREATE TABLE item (id int);",
    ),
    (
        "policy_naming_another_table_that_goes",
        "CREATE TABLE allowed (id int); CREATE TABLE item (id int); \
         CREATE POLICY listed ON item USING (EXISTS (SELECT 1 FROM allowed a WHERE a.id = item.id));",
        "CREATE TABLE item (id int);",
    ),
    (
        "policy_over_a_view_created_again",
        "CREATE TABLE allowed (id int, ok boolean); CREATE VIEW ok_ids AS SELECT id FROM allowed WHERE ok; \
         CREATE TABLE item (id int); CREATE POLICY listed ON item USING (id IN (SELECT id FROM ok_ids));",
        "CREATE TABLE allowed (id int, ok boolean); CREATE VIEW ok_ids AS SELECT id FROM allowed WHERE ok AND id > 0; \
         CREATE TABLE item (id int); CREATE POLICY listed ON item USING (id IN (SELECT id FROM ok_ids));",
    ),
];

/// Rules, event triggers, default privileges and extension comments.
const DATABASE_PAIRS: &[(&str, &str, &str)] = &[
    (
        "rule_added",
        "CREATE TABLE item (id int); CREATE TABLE item_log (id int);",
        "CREATE TABLE item (id int); CREATE TABLE item_log (id int); \
         CREATE RULE item_archive AS ON DELETE TO item DO ALSO INSERT INTO item_log VALUES (OLD.id); \
         COMMENT ON RULE item_archive ON item IS 'keep what goes';",
    ),
    (
        "rule_changed_and_disabled",
        "CREATE TABLE item (id int); CREATE RULE frozen AS ON UPDATE TO item DO INSTEAD NOTHING;",
        "CREATE TABLE item (id int); CREATE TABLE item_log (id int); \
         CREATE RULE frozen AS ON UPDATE TO item DO ALSO INSERT INTO item_log VALUES (NEW.id); \
         ALTER TABLE item DISABLE RULE frozen;",
    ),
    (
        "rule_on_a_view_created_again",
        "CREATE TABLE item (id int, name text); CREATE VIEW names AS SELECT id, name FROM item; \
         CREATE RULE names_insert AS ON INSERT TO names DO INSTEAD INSERT INTO item VALUES (NEW.id, NEW.name);",
        "CREATE TABLE item (id int, name text); CREATE VIEW names AS SELECT id, name FROM item WHERE id > 0; \
         CREATE RULE names_insert AS ON INSERT TO names DO INSTEAD INSERT INTO item VALUES (NEW.id, NEW.name);",
    ),
    (
        "rule_writing_to_a_table_that_goes",
        "CREATE TABLE item (id int); CREATE TABLE item_log (id int); \
         CREATE RULE item_archive AS ON DELETE TO item DO ALSO INSERT INTO item_log VALUES (OLD.id);",
        "CREATE TABLE item (id int);",
    ),
    (
        "event_trigger_added",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', tg_tag; END $$; \
         CREATE EVENT TRIGGER note_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION note_ddl(); \
         COMMENT ON EVENT TRIGGER note_tables IS 'notes table changes';",
    ),
    (
        "event_trigger_tags_and_enabled_changed",
        "CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', tg_tag; END $$; \
         CREATE EVENT TRIGGER note_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION note_ddl(); \
         CREATE EVENT TRIGGER note_starts ON ddl_command_start EXECUTE FUNCTION note_ddl();",
        "CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', tg_tag; END $$; \
         CREATE EVENT TRIGGER note_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION note_ddl(); \
         CREATE EVENT TRIGGER note_starts ON ddl_command_start EXECUTE FUNCTION note_ddl(); \
         ALTER EVENT TRIGGER note_starts DISABLE;",
    ),
    (
        "event_trigger_moved_to_another_function",
        "CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', tg_tag; END $$; \
         CREATE EVENT TRIGGER note_drops ON sql_drop EXECUTE FUNCTION note_ddl();",
        "CREATE SCHEMA audit; \
         CREATE FUNCTION audit.note_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'dropped'; END $$; \
         CREATE EVENT TRIGGER note_drops ON sql_drop EXECUTE FUNCTION audit.note_drop(); \
         ALTER EVENT TRIGGER note_drops ENABLE ALWAYS;",
    ),
    (
        "default_privileges_granted_on_tables_and_a_table_made_after",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO reader; \
         CREATE TABLE item (id int);",
    ),
    (
        "default_privileges_in_a_schema_and_for_another_role",
        "CREATE SCHEMA app;",
        "CREATE SCHEMA app; \
         ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT ON TABLES TO writer; \
         ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON SEQUENCES TO reader WITH GRANT OPTION; \
         ALTER DEFAULT PRIVILEGES FOR ROLE writer GRANT SELECT ON TABLES TO reader; \
         ALTER DEFAULT PRIVILEGES FOR ROLE writer IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO reader;",
    ),
    (
        "default_privileges_revoked_from_public_on_functions_and_types",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC; \
         ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC; \
         ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO reader; \
         ALTER DEFAULT PRIVILEGES GRANT CREATE ON SCHEMAS TO writer;",
    ),
    (
        "default_privileges_changed",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT, UPDATE ON TABLES TO reader; \
         ALTER DEFAULT PRIVILEGES GRANT SELECT ON SEQUENCES TO writer WITH GRANT OPTION;",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT, DELETE ON TABLES TO reader; \
         ALTER DEFAULT PRIVILEGES GRANT SELECT ON SEQUENCES TO writer;",
    ),
    (
        "a_new_table_under_default_privileges_the_migrations_already_set",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO reader;",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO reader; \
         CREATE TABLE item (id int); REVOKE SELECT ON item FROM reader;",
    ),
    (
        "extension_comment_changed",
        "CREATE EXTENSION citext;",
        "CREATE EXTENSION citext; COMMENT ON EXTENSION citext IS 'for emails';",
    ),
    (
        "extension_added_without_its_comment",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE EXTENSION citext; COMMENT ON EXTENSION citext IS NULL;",
    ),
];

#[tokio::test]
async fn row_level_security_and_policies_round_trip() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    make_roles(&url, &["reader", "writer"]).await;
    for (name, a, b) in POLICY_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}

#[tokio::test]
async fn rules_event_triggers_default_privileges_and_extension_comments_round_trip() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    make_roles(&url, &["reader", "writer"]).await;
    for (name, a, b) in DATABASE_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}
