"""Where an item's follow-up level lives, measured (#38): as 19.0.1.3.0 kept it, on account_move_line with the
invoices' summary on account_move (A), or in two narrow tables of our own, one row per journal item and one per
invoice (B: what 19.0.1.4.0 does, collections_item_level and collections_invoice_level).

    python tools/bench_levels.py DB [ROUNDS]

DB: a copy of a `make bench` book (it adds A's old columns with their indexes and two tables, dropped at the end:
never a database in use). The same 10,000 open receivable items are written in batches of 500, each batch
committed, A and B in turns; prints the seconds and the WAL bytes of each round, then the best of each.
"""
import sys
import time

import psycopg2

ITEMS = """
SELECT line.id FROM account_move_line line JOIN account_account account ON account.id = line.account_id
 WHERE account.account_type = 'asset_receivable' AND NOT line.reconciled AND line.parent_state = 'posted'
 ORDER BY md5(line.id::text) LIMIT 10000
"""
TABLES = """
ALTER TABLE account_move_line
  ADD COLUMN collections_level_id int REFERENCES collections_level (id) ON DELETE SET NULL,
  ADD COLUMN collections_last_reminder_date date;
CREATE INDEX bench_line_level_index ON account_move_line (collections_level_id) WHERE collections_level_id IS NOT NULL;
ALTER TABLE account_move ADD COLUMN collections_level_id int REFERENCES collections_level (id) ON DELETE SET NULL,
                         ADD COLUMN collections_last_reminder_date date, ADD COLUMN collections_reminder_count int;
CREATE INDEX bench_move_level_index ON account_move (collections_level_id) WHERE collections_level_id IS NOT NULL;
CREATE TABLE bench_line_level (line_id int PRIMARY KEY REFERENCES account_move_line (id) ON DELETE CASCADE,
                               move_id int NOT NULL, level_id int REFERENCES collections_level (id), reminded date);
CREATE INDEX ON bench_line_level (move_id);
CREATE TABLE bench_move_level (move_id int PRIMARY KEY REFERENCES account_move (id) ON DELETE CASCADE,
                               level_id int REFERENCES collections_level (id), reminded date, reminder_count int);
"""
# A: what collections.ledger._set_levels did in 19.0.1.3.0, on the columns (and indexes) it had.
A_LINES = """
UPDATE account_move_line line SET collections_level_id = new.level_id, collections_last_reminder_date = new.reminded
  FROM (SELECT unnest(%(ids)s::int[]) AS id, %(level)s::int AS level_id, CURRENT_DATE AS reminded) new
 WHERE line.id = new.id RETURNING line.move_id
"""
A_MOVES = """
UPDATE account_move move
   SET collections_level_id = top.level_id, collections_last_reminder_date = top.reminded,
       collections_reminder_count = GREATEST(COALESCE(move.collections_reminder_count, 0) + 1, 0)
  FROM (SELECT line.move_id,
               (ARRAY_AGG(line.collections_level_id ORDER BY level.delay DESC)
                  FILTER (WHERE line.collections_level_id IS NOT NULL))[1] AS level_id,
               MAX(line.collections_last_reminder_date) AS reminded
          FROM account_move_line line LEFT JOIN collections_level level ON level.id = line.collections_level_id
         WHERE line.move_id = ANY(%(moves)s) GROUP BY line.move_id) top
 WHERE move.id = top.move_id
"""
# B: the same in narrow tables, upserted.
B_LINES = """
INSERT INTO bench_line_level (line_id, move_id, level_id, reminded)
SELECT line.id, line.move_id, %(level)s, CURRENT_DATE FROM account_move_line line WHERE line.id = ANY(%(ids)s)
    ON CONFLICT (line_id) DO UPDATE SET level_id = EXCLUDED.level_id, reminded = EXCLUDED.reminded
RETURNING move_id
"""
B_MOVES = """
INSERT INTO bench_move_level (move_id, level_id, reminded, reminder_count)
SELECT item.move_id,
       (ARRAY_AGG(item.level_id ORDER BY level.delay DESC) FILTER (WHERE item.level_id IS NOT NULL))[1],
       MAX(item.reminded), 1
  FROM bench_line_level item LEFT JOIN collections_level level ON level.id = item.level_id
 WHERE item.move_id = ANY(%(moves)s) GROUP BY item.move_id
    ON CONFLICT (move_id) DO UPDATE SET level_id = EXCLUDED.level_id, reminded = EXCLUDED.reminded,
                                        reminder_count = bench_move_level.reminder_count + 1
"""
VARIANTS = {"A": (A_LINES, A_MOVES), "B": (B_LINES, B_MOVES)}


def wal_bytes(cur):
    cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')")
    return int(cur.fetchone()[0])


def write(conn, cur, variant, items, level):
    lines, moves = VARIANTS[variant]
    before, started = wal_bytes(cur), time.perf_counter()
    for start in range(0, len(items), 500):
        cur.execute(lines, {"ids": items[start:start + 500], "level": level})
        cur.execute(moves, {"moves": sorted({row[0] for row in cur.fetchall()})})
        conn.commit()
    return time.perf_counter() - started, wal_bytes(cur) - before


def main():
    db = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    conn = psycopg2.connect(dbname=db)
    cur = conn.cursor()
    cur.execute(ITEMS)
    items = [row[0] for row in cur.fetchall()]
    cur.execute("SELECT id FROM collections_level ORDER BY delay LIMIT 2")
    levels = [row[0] for row in cur.fetchall()]
    cur.execute(TABLES)
    conn.commit()
    results = {"A": [], "B": []}
    try:
        for number in range(rounds):
            for variant, found in results.items():
                seconds, wal = write(conn, cur, variant, items, levels[number % len(levels)])
                found.append((seconds, wal))
                print(f"{variant} {seconds:.2f} s {wal / 1e6:.1f} MB of WAL", flush=True)
    finally:
        conn.rollback()
        cur.execute("DROP TABLE bench_line_level; DROP TABLE bench_move_level; "
                    "ALTER TABLE account_move_line DROP COLUMN collections_level_id, "
                    "DROP COLUMN collections_last_reminder_date; "
                    "ALTER TABLE account_move DROP COLUMN collections_level_id, "
                    "DROP COLUMN collections_last_reminder_date, DROP COLUMN collections_reminder_count")
        conn.commit()
    for variant, found in results.items():
        print(f"{variant} best {min(s for s, _ in found):.2f} s, {min(w for _, w in found) / 1e6:.1f} MB of WAL")


if __name__ == "__main__":
    main()
