INSERT INTO author (name) VALUES ('Ursula K. Le Guin'), ('Terry Pratchett');

INSERT INTO book (author_id, title, published, status)
SELECT id, 'A Wizard of Earthsea', DATE '1968-11-01', 'published'::book_status FROM author WHERE name = 'Ursula K. Le Guin'
UNION ALL
SELECT id, 'Guards! Guards!', DATE '1989-11-01', 'published'::book_status FROM author WHERE name = 'Terry Pratchett';
