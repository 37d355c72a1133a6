"""What Gemini says and means: its errors, quotas, models and the offline demo of it."""
