-- devdb:revision b7e8f9a0b1c2
-- devdb:parents  a1b2c3d4e5f6
-- devdb:message  add status to book

-- devdb:up
CREATE TYPE book_status AS ENUM ('draft', 'published', 'archived');
ALTER TABLE book ADD COLUMN status book_status NOT NULL DEFAULT 'draft';
CREATE INDEX book_status_idx ON book (status) WHERE status <> 'archived';

-- devdb:down
ALTER TABLE book DROP COLUMN status;
DROP TYPE book_status;
