-- devdb:revision c3d4e5f6a7b8
-- devdb:parents  b7e8f9a0b1c2
-- devdb:message  book counts view and updated_at trigger

-- devdb:up
ALTER TABLE book ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER book_touch BEFORE UPDATE ON book
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE VIEW author_book_counts AS
    SELECT a.name, count(b.id) AS books
    FROM author a LEFT JOIN book b ON b.author_id = a.id
    GROUP BY a.name

-- devdb:down
DROP VIEW author_book_counts;
DROP TRIGGER book_touch ON book;
DROP FUNCTION touch_updated_at();
ALTER TABLE book DROP COLUMN updated_at;
