-- devdb:revision a1b2c3d4e5f6
-- devdb:parents
-- devdb:message  create authors and books

-- devdb:up
CREATE TABLE author (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE book (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES author (id),
    title text NOT NULL,
    published date
);

-- devdb:down
DROP TABLE book;
DROP TABLE author;
