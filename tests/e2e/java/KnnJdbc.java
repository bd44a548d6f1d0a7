// Driven by tests/e2e/test_pgjdbc.py, run as a single-file program:
//   java -cp postgresql.jar KnnJdbc.java PORT TABLE < input
// Input lines: "K k", then "V id title [x,y,z]" per row, then "Q [x,y,z]" per query.
// Output: one tab-separated record per line, which the Python test parses and checks.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGResultSetMetaData;
import org.postgresql.PGStatement;
import org.postgresql.util.PGobject;

public class KnnJdbc {
  static void emit(Object... fields) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) line.append('\t');
      line.append(fields[i]);
    }
    System.out.println(line);
  }

  // pgvector-java's PGvector is a PGobject of type "vector": pgjdbc looks the type up by name.
  static PGobject vector(String text) throws SQLException {
    PGobject value = new PGobject();
    value.setType("vector");
    value.setValue(text);
    return value;
  }

  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/sqlvec?user=sqlvec";
    String table = args[1];
    int k = 0;
    List<String[]> rows = new ArrayList<>();
    List<String> queries = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] parts = line.split(" ");
      if (parts[0].equals("K")) k = Integer.parseInt(parts[1]);
      if (parts[0].equals("V")) rows.add(parts);
      if (parts[0].equals("Q")) queries.add(parts[1]);
    }
    try (Connection conn = DriverManager.getConnection(url)) {
      try (Statement st = conn.createStatement()) {
        st.execute("DROP TABLE IF EXISTS " + table);
        st.execute(
            "CREATE TABLE " + table
                + " (id BIGINT PRIMARY KEY, title TEXT NOT NULL, embedding vector(3))");
        st.execute("CREATE INDEX " + table + "_hnsw ON " + table + " USING hnsw (embedding)");
      }
      insert(conn, table, rows);
      knn(conn, table, queries, k);
      scalars(conn, table);
      metadata(conn, table);
      errors(conn, table);
      try (Statement st = conn.createStatement()) {
        st.execute("DROP TABLE " + table);
      }
    }
  }

  // Each result column's format: 0 text, 1 binary (pgjdbc asks for binary once server-prepared).
  static String formats(ResultSetMetaData md) throws SQLException {
    PGResultSetMetaData pg = md.unwrap(PGResultSetMetaData.class);
    StringBuilder out = new StringBuilder();
    for (int i = 1; i <= md.getColumnCount(); i++) out.append(pg.getFormat(i));
    return out.toString();
  }

  // A batch of more than prepareThreshold rows: later executions use a named statement.
  static void insert(Connection conn, String table, List<String[]> rows) throws SQLException {
    String sql = "INSERT INTO " + table + " (id, title, embedding) VALUES (?, ?, ?)";
    int count = 0;
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      for (String[] row : rows.subList(0, rows.size() / 2)) {
        ps.setLong(1, Long.parseLong(row[1]));
        ps.setString(2, row[2]);
        ps.setObject(3, vector(row[3]));
        ps.addBatch();
      }
      for (int n : ps.executeBatch()) count += n;
      // One at a time as well: executions 1-4 unnamed, then server-prepared.
      for (String[] row : rows.subList(rows.size() / 2, rows.size())) {
        ps.setLong(1, Long.parseLong(row[1]));
        ps.setString(2, row[2]);
        ps.setObject(3, vector(row[3]));
        count += ps.executeUpdate();
      }
    }
    emit("inserted", count);
  }

  static void knn(Connection conn, String table, List<String> queries, int k)
      throws SQLException {
    String sql =
        "SELECT id, title, embedding, embedding <-> ? AS distance FROM " + table
            + " ORDER BY embedding <-> ? LIMIT ?";
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      int run = 0;
      for (String q : queries) {
        run++;
        ps.setObject(1, vector(q));
        ps.setObject(2, vector(q));
        ps.setInt(3, k);
        List<String> ids = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        List<String> distances = new ArrayList<>();
        List<String> embeddings = new ArrayList<>();
        String embeddingClass = "";
        String formats;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(Long.toString(rs.getLong("id")));
            titles.add(rs.getString("title"));
            distances.add(Double.toString(rs.getDouble("distance")));
            Object embedding = rs.getObject("embedding");
            embeddingClass = embedding.getClass().getSimpleName();
            embeddings.add(embedding.toString());
          }
          ResultSetMetaData md = rs.getMetaData();
          formats = formats(md);
          if (run == queries.size()) {
            emit("types", md.getColumnTypeName(1), md.getColumnTypeName(2),
                md.getColumnTypeName(3), md.getColumnTypeName(4));
          }
        }
        boolean serverPrepared = ps.unwrap(PGStatement.class).isUseServerPrepare();
        emit("knn", run, serverPrepared, formats, String.join(",", ids),
            String.join("|", titles), String.join(",", distances), String.join(";", embeddings),
            embeddingClass);
      }
    }
  }

  // Binary results of several types, once the statement is server-prepared.
  static void scalars(Connection conn, String table) throws SQLException {
    String sql =
        "SELECT count(*) AS n, max(id) AS top, min(title) AS first, sum(id) > ? AS big, "
            + "CAST(avg(id) AS DOUBLE PRECISION) AS mean FROM " + table + " WHERE id > ?";
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      for (int run = 1; run <= 7; run++) {
        ps.setLong(1, 10);
        ps.setInt(2, run);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          emit("scalar", run, formats(rs.getMetaData()), rs.getLong("n"), rs.getLong("top"),
              rs.getString("first"), rs.getBoolean("big"), rs.getDouble("mean"));
        }
      }
    }
  }

  static void metadata(Connection conn, String table) throws SQLException {
    DatabaseMetaData md = conn.getMetaData();
    try (ResultSet rs = md.getTables(null, "public", table + "%", new String[] {"TABLE"})) {
      while (rs.next()) {
        emit("table", rs.getString("TABLE_CAT"), rs.getString("TABLE_SCHEM"),
            rs.getString("TABLE_NAME"), rs.getString("TABLE_TYPE"), rs.getString("REMARKS"));
      }
    }
    try (ResultSet rs = md.getColumns(null, "public", table, "%")) {
      while (rs.next()) {
        emit("column", rs.getString("TABLE_NAME"), rs.getString("COLUMN_NAME"),
            rs.getInt("DATA_TYPE"), rs.getString("TYPE_NAME"), rs.getInt("COLUMN_SIZE"),
            rs.getInt("NULLABLE"), rs.getInt("ORDINAL_POSITION"),
            rs.getString("IS_AUTOINCREMENT"));
      }
    }
    try (ResultSet rs = md.getPrimaryKeys(null, "public", table)) {
      while (rs.next()) {
        emit("pk", rs.getString("TABLE_NAME"), rs.getString("COLUMN_NAME"),
            rs.getInt("KEY_SEQ"), rs.getString("PK_NAME"));
      }
    }
  }

  // Errors carry their SQLSTATE and leave the connection usable.
  static void errors(Connection conn, String table) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement("INSERT INTO " + table + " (id, title, embedding) VALUES (?, ?, ?)")) {
      ps.setLong(1, 1);
      ps.setString(2, "again");
      ps.setObject(3, vector("[1,2,3]"));
      ps.executeUpdate();
      emit("error", "none");
    } catch (SQLException e) {
      emit("error", e.getSQLState());
    }
    try (Statement st = conn.createStatement()) {
      st.executeQuery("SELEC 1");
    } catch (SQLException e) {
      emit("error", e.getSQLState());
    }
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      emit("after_error", rs.getLong(1));
    }
  }
}
