/* outer /* nested */ still */ SELECT "Mixed""Quote", a$b -- trailing
 FROM s.t;