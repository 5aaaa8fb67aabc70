-- devdb:revision 0002
-- devdb:parents  0001
-- devdb:message  books

-- devdb:up
CREATE TABLE books (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES authors (id), title text NOT NULL);

-- devdb:down
DROP TABLE books;
