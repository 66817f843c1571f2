FETCH 20000 FROM sealed_values
