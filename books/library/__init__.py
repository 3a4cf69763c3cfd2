"""A reader's library in and out: Goodreads and StoryGraph exports read (``formats``), matched to the catalogue
(``matching``), written to the reader's shelves (``services``), and the reader's shelves written back out
(``export``)."""
