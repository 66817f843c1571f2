-- The weights of the composite assessment score.
SELECT measure, weight FROM assessment_weights ORDER BY measure
