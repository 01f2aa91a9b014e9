"""The community digital-technology team (Tổ công nghệ số cộng đồng): helper mode for team members (mode) and the
records of residents they helped (records)."""
