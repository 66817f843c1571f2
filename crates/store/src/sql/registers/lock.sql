-- One bulk write of the registers at a time (ids are numbered after the highest).
LOCK TABLE buildings, places, organisations, households, residents IN EXCLUSIVE MODE
