import Core
import Foundation
import GRDB

/// The index schema, as named GRDB migrations (docs/store.md, "Index"). Digests are
/// stored as bare lowercase hex; sizes alongside; times as Unix seconds. Never edit a
/// shipped migration; append a new one.
///
/// Stores made before GRDB recorded v1 and v2 in a table of their own (`migrations`):
/// v1 and v2 create only what is missing (IF NOT EXISTS), so on such a store they
/// change nothing and GRDB records them; v3 drops the old table.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-blobs-trees-actions-builds-pins") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS blobs (
                    digest TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    added INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS trees (
                    tree TEXT PRIMARY KEY,
                    manifest TEXT NOT NULL,
                    manifest_size INTEGER NOT NULL,
                    files INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    added INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS actions (
                    action TEXT PRIMARY KEY,
                    tree TEXT NOT NULL,
                    manifest TEXT NOT NULL,
                    manifest_size INTEGER NOT NULL,
                    exit_code INTEGER NOT NULL,
                    log TEXT,
                    log_size INTEGER,
                    created INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS builds (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    recipe TEXT NOT NULL,
                    action TEXT NOT NULL,
                    tree TEXT,
                    started INTEGER NOT NULL,
                    finished INTEGER);
                CREATE INDEX IF NOT EXISTS builds_action ON builds (action);
                CREATE TABLE IF NOT EXISTS pins (
                    digest TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    note TEXT NOT NULL,
                    added INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v2-attestations") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS attestations (
                    action TEXT NOT NULL,
                    tree TEXT NOT NULL,
                    envelope TEXT NOT NULL,
                    envelope_size INTEGER NOT NULL,
                    sbom TEXT NOT NULL,
                    sbom_size INTEGER NOT NULL,
                    sbom_format TEXT NOT NULL,
                    keyid TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    PRIMARY KEY (action, sbom_format));
                CREATE INDEX IF NOT EXISTS attestations_tree ON attestations (tree);
                """)
        }
        m.registerMigration("v3-grdb-build-status") { db in
            // A build's row is written when it starts (running) and updated when it
            // ends (succeeded or failed). Rows of older stores were written at the end.
            try db.execute(sql: """
                DROP TABLE IF EXISTS migrations;
                ALTER TABLE builds ADD COLUMN status TEXT NOT NULL DEFAULT 'running';
                UPDATE builds SET status = CASE WHEN tree IS NOT NULL THEN 'succeeded'
                                                WHEN finished IS NOT NULL THEN 'failed' ELSE 'running' END;
                """)
        }
        return m
    }
}
