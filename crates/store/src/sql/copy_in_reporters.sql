-- Bulk load of the reporters' contacts of loaded events (text COPY: event id, contact).
COPY event_reporters (event_id, contact) FROM STDIN
