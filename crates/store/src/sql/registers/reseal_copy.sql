COPY resealed (id, kind, first_sealed, first_lookup, second_sealed, second_lookup) FROM STDIN
